"""ipywidgets front ends; they call the same library functions as everything else."""
