"""HTTP layer: routers validate input, call one service function and shape the response."""
