"""A lavaan-style SEM core for confirmatory factor analysis, laid out as lavaan's steps:

1. ``syntax``: the model, read from lavaan model syntax;
2. ``sample``: the one set of input checks and the sample statistics (moments; missing-data patterns
   and the EM saturated model; thresholds, polychorics and Gamma);
3. ``spec``: the parameter table (free, fixed and shared entries) and its maps to the model matrices;
4. one module per estimator: ``ml`` (maximum likelihood), ``fiml`` (full-information ML with missing
   answers), ``wlsmv`` (ordered items);
5. ``fit_measures``: chi-square based indices and SRMR, one copy for every estimator;
6. ``estimates``: the parameter table with standard errors and lavaan's ``std.all``;
7. ``results``: the declared result object.

The public calls are :func:`measurekit.cfa` (``stats/cfa.py``) and :func:`measurekit.invariance`
(``stats/invariance.py``); nothing here is public API.
"""
