"""The git layer: the only package that imports GitPython."""
