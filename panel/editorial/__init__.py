"""What people do with drafts: edit, save, validate, publish, render, and the community's votes."""
