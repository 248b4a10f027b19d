"""The click-free core of crmkit: records, rules, reports and the edges to files and git."""
