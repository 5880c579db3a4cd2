from formcheck.cli.main import main

raise SystemExit(main())
