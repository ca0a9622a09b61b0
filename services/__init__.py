"""The seam where models meet matching: the only package that knows both."""
