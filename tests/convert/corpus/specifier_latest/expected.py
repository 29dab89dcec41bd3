import pandas # @latest
import cv2 # opencv-python-headless @latest
