import sklearn
import cv2
import PIL
import yaml
import bs4
