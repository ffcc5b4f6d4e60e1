"""What a person runs: the ``cmsf`` command, the demo, the what-if simulator, the notebook
views, and the columnar (polars) and distributed (Dask) paths for large histories.
"""
