#print('hello')
#model.fit(X, y)
#x
