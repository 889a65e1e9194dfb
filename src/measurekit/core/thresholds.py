"""Every judgement threshold measurekit applies, in one place, each with its source.

A threshold turns a number into a judgement ("reliable enough", "invariance holds", "under-represented"). They are
conventions, not laws: an analyst who needs another one passes it to the function that takes it as a parameter, and
the report says which was used. Change one here only with its source.
"""
from __future__ import annotations

# Internal consistency: alpha of at least .70 for comparing groups (Nunnally 1978; COSMIN criteria for good
# measurement properties, Prinsen et al. 2018 / Terwee et al. 2007). Decisions about individuals need about .90.
ALPHA_MIN = 0.70

# Test-retest reliability and agreement: ICC or weighted kappa of at least .70
# (Prinsen et al. 2018; Terwee et al. 2007).
ICC_MIN = 0.70

# Structural validity, COSMIN criteria (Prinsen et al. 2018): CFI or TLI above .95, or RMSEA below .06, or SRMR
# below .08 (after Hu and Bentler 1999).
CFI_MIN = 0.95
TLI_MIN = 0.95
RMSEA_MAX = 0.06
SRMR_MAX = 0.08

# Measurement invariance: a level holds when CFI falls by at most .01 (Cheung and Rensvold 2002) and RMSEA rises by
# at most .015 (Chen 2007) against the level before.
DELTA_CFI_MAX = 0.01
DELTA_RMSEA_MAX = 0.015

# Content validity (Polit, Beck and Owen 2007): modified kappa above .74 excellent, .60-.74 good, .40-.59 fair;
# an item is flagged below "good". Clarity: I-CVI of at least .78 with six or more raters (Lynn 1986).
KAPPA_EXCELLENT = 0.74
KAPPA_GOOD = 0.60
KAPPA_FAIR = 0.40
CLARITY_MIN = 0.78

# Coverage: a group is under-represented among respondents when its share of respondents is below .85 of its share
# of the cohort (a representation ratio; the same rule of thumb as a response-rate ratio of .85 in survey practice),
# judged only for groups of at least 20 children, so one or two responses do not swing it.
REPRESENTATION_MIN = 0.85
REPRESENTATION_MIN_GROUP = 20

# Linkage: a characteristic whose share differs by 10 percentage points or more between linked and unlinked records
# is reported as a bias the linkage may have introduced (a difference a board would notice; no test implied).
LINKAGE_GAP_POINTS = 10.0

# DIF: McFadden pseudo R-squared change of .02 or more flags an item (Choi, Gibbons and Crane 2011, lordif).
DIF_R2_CHANGE = 0.02

# Published values from fewer than 30 children are flagged "u" (low reliability), as the GSS symbol convention and
# public-health indicator tools do for small denominators.
LOW_RELIABILITY_N = 30
