"""The review desk (`panel desk`): a local web app over the outputs folder, a second door into
the same lifecycle as `panel edit`, `panel validate` and `panel publish`, through the same
functions. app.py: routes; actions.py: what the buttons do; views.py: what pages show;
security.py: one guard per defence."""
