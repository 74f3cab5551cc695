"""Browser assets: the public status page (static HTML, CSS and JS reading ``/api/status``)."""
