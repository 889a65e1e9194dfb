"""Shared machinery every stage uses: result objects, atomic file writing inside the output
folder, progress bars and the paths of the bundled framework and data."""
