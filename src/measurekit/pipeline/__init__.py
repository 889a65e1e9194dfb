"""The main job (``measurekit run``): the run loop (``run``) and its steps (``steps``), each
reading the typed run state and adding its results to it."""
