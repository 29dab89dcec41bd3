#for i in range(3):
#    print(i)
#while False:
#    break
#with open('f') as handle:
#    data = handle.read()
