from tracespec.cli import main

raise SystemExit(main())
