"""The recruitment pack: letter, poster and leaflet templates and their renderer."""
