"""Practice data with known truth: a synthetic cohort for any framework (``cohort``), shaped by the framework's
synthesis profile (``profile``), with identifiers as families give them for linkage practice (``identifiers``).

A stage of its own above the statistics: the ground truth it records (true reliability, population AUC, retest ICC)
is computed with the same statistics the analyses use, so nothing below it imports it."""
