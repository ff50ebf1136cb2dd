"""The git layer: the only package that runs git (`process` starts every git process)."""
