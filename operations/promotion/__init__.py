"""`promote`: a change rehearsed on a copy (`clone`) carried back to the stack it was copied from."""
