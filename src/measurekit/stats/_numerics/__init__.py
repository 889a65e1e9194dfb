"""Numerical kernels shared by the statistics (not public API): bivariate normal CDF, pairwise
covariance, minres and oblimin, Newton logistic and proportional-odds fits, design matrices,
item-data checks."""
