from focus_mcp.cli import main

raise SystemExit(main())
