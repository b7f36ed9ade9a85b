"""The message for labels and decisions that are not 0/1 (the numpy and the compiled count)."""

NOT_BINARY = "{role} must be 0/1 (1 favourable); count other values with count_table"
