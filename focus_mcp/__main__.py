from focus_mcp.cli import run

run()
