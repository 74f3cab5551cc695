"""Browser assets: the public status page and the operator dashboard (static HTML, CSS, JS and the vendored
chart library), read by upstat.web.assets."""
