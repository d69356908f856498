"""The people around the records: accounts and roles, the team's rules (four-eyes), who works on
which draft, and the audit log. Kept in `<outputs>/.team/`, beside the records they are about,
so the desk and the CLI read the same files. Below `editorial` (the publish gate follows the
four-eyes rule) and above `records`; it knows nothing of the web."""
