from requests import Session # == 1.5
