"""The information inventory format: what each section and field of the YAML file means, and its rules.

One YAML file with four sections (see docs/information_map.md for a worked example)::

    inventory:            # about the map itself
      title: ...          # required
      area: ...           # optional: the place or service the map describes
      description: ...    # optional
      illustrative: true  # optional: the map is made up for teaching, not a real system
    priorities:           # required, at least one: the strategic priorities progress is judged against
      - id: safeguarding
        title: Keeping children safe
        voice_domains: [wellbeing]   # optional: voice domains of a measurekit framework that speak to it
    actors:               # optional: services, teams and IT systems that collect, hold or pass on information
      - id: health_visiting
        title: Health visiting service
        kind: service     # service (people) or system (a database or case record)
        organisation: NHS community trust
    information:          # required, at least one: every type of information collected
      - id: asq_scores
        title: ASQ-3 scores at the 2-year review
        collected_by: health_visiting       # an actor id
        held_in: [community_health_record]  # actor ids (usually systems); optional
        voice: [parent]                     # child, parent, practitioner (one or more), or none
        level: individual                   # individual (one record per child or family) or aggregate
        requirement: national               # national (a national return or statutory duty) or local (chosen here)
        frequency: quarterly                # optional, see FREQUENCIES
        informs: [health_reviews]           # priorities this type informs ("informed by" edge)
        measures:                           # priorities this type measures ("measured by" edge) ...
          - priority: health_reviews
            via: [la_performance_team]      # ... optionally through these actors, in order
        via: [public_health]                # default route for every edge of this type
        feeds: [asq_return]                 # other information types this one is aggregated into

Ids are letters, digits, '_', '-' and '.', and unique across the whole file (a priority, an actor and an
information type may not share one). Edges: ``collected_by`` and ``held_in`` point from the actor into the
type; a type's route runs type -> via[0] -> via[1] -> ... -> priority; ``feeds`` runs type -> type and may
not go round in a circle, and a route may not pass through the same actor twice.
"""
from __future__ import annotations

import re

VOICES = ("child", "parent", "practitioner", "none")
LEVELS = ("individual", "aggregate")
REQUIREMENTS = ("national", "local")
ACTOR_KINDS = ("service", "system")
FREQUENCIES = ("continuous", "daily", "weekly", "monthly", "termly", "quarterly", "annually", "once", "as_needed")
RELATIONS = ("informs", "measures")

ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
ID_RULE = "id: letters, digits, '_', '-' or '.', at most 80 characters"

SECTIONS = {"inventory": False, "priorities": True, "actors": False, "information": True}   # name -> required

INVENTORY_FIELDS = {"title": True, "area": False, "description": False, "illustrative": False, "source": False}
PRIORITY_FIELDS = {"id": True, "title": True, "description": False, "voice_domains": False}
ACTOR_FIELDS = {"id": True, "title": True, "kind": False, "organisation": False, "description": False}
INFORMATION_FIELDS = {"id": True, "title": True, "collected_by": True, "held_in": False, "voice": True, "level": True,
                      "requirement": True, "frequency": False, "informs": False, "measures": False, "via": False,
                      "feeds": False, "description": False}
EDGE_FIELDS = {"priority": True, "via": False}
