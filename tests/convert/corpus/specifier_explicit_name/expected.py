import named # named-python == 42
