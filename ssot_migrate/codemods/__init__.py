"""Pure codemods, one module per phase: source bytes in, new bytes and change records out."""
