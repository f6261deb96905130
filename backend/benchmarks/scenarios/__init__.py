"""The measurements, one module per theme; each fills its part of a `Results`."""
