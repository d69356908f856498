"""`panel stats`: figures across every panel record, computed from the record index and shown in
the terminal (`report`) or as one HTML file (`html`)."""
