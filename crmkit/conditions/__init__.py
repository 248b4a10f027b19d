"""The condition language (parse, evaluate, explain) and records as conditions see them."""
