"""TypeScript client generator (see the TypeScript client issue)."""
