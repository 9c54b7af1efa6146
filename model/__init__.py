"""notestream's model package: features, notes, the CR-GCN network, decoding, training and data."""
