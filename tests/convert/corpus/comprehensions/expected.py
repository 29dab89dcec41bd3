#[i * 2 for i in range(3)]
#squares = {i: i * i for i in range(3)}
