"""What every stage leans on and nothing else: safe reading of files, shipped resources, text cleaning."""
