#pip install pandas
#pip3 install numpy
#pip = 3
#pip if ok else other
