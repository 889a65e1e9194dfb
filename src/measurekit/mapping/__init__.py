"""Mapping information (framework practices "mapping information" and "mapping systems").

An analyst writes down, in one YAML inventory, every type of information a system collects, who
collects it, where it is held, whose voice it carries, and which strategic priorities it informs
or measures through which actors and systems. This stage reads and checks that inventory
(``reading``), builds the network (``network``), measures it (``analysis``, ``gaps``), and draws
and writes the map (``drawing``, ``page``, ``writing``). Public calls: ``mk.read_inventory``,
``mk.information_map``, ``mk.write_information_map``.
"""
