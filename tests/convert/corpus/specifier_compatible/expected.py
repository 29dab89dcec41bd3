import scikit # ~= 1.4.2
