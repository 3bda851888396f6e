"""Stage 4: Plan -> BPF C and a matching Python decoder. cliteral is the one place values become C."""
