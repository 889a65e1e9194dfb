"""Stage 4 of the flow: the statistics, one module per family.

scoring (items -> scale scores), reliability (alpha family), items (item analysis), agreement
(parent-practitioner), factor (polychoric, EFA, parallel analysis, omega), cfa and invariance
(the lavaan-style SEM core in stats/sem/), dif (ordinal logistic DIF), added_value (over GLD),
coverage (whose voices were heard, raking weights), intervals (Wilson, t, weighted, funnel).
Private numerical kernels shared by several families live in ``_numerics``.
"""
