#match command:
#    case 'go':
#        run()
#    case _:
#        pass
