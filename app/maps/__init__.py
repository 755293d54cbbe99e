"""Maps (issue 16): ideas' locations, places, district boundaries, the map pages and GeoJSON."""
