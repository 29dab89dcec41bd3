#%%bash
#echo hello
#if [ -f x ]; then cat x; fi
