"""Training data: obtaining packaged photographs and emoji, cutting and degrading patches."""
