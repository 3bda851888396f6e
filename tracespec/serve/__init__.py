"""`tracespec serve`: always-on flight recorders for many cgroups at once, over HTTP on a Unix socket."""
