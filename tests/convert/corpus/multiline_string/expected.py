#text = """
#line
#
#!not a magic
#%not either
#"""
