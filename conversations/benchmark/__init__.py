"""Publications and benchmarks: /publish (Secretariat), /benchmark and /myreport (NCPs)."""
