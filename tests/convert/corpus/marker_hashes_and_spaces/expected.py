##   @crunch/keep:on  
x = 1
