#%%writefile helper.py
#import secret
#def helper():
#    return 1
