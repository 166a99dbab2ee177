"""Records into the lines an answer shows: one line per record, names escaped and bounded, the response
budget (lines); a team with its members' roles (teams)."""
