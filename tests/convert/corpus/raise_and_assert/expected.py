#assert x > 0, 'positive'
#raise ValueError('no')
