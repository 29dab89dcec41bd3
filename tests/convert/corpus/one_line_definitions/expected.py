def f(): return 1
class A: pass
#if x: y = 1
